import { html } from 'htm/preact';
import { api, type FileView, humanBytes, humanTime } from '../api';
import { useAction, useLoaded } from '../hooks';

/** Deleted files: restore them, or purge them before their time. */
export function TrashPage() {
  const { value, error, reload } = useLoaded<{ files: FileView[] }>('/v1/trash?limit=1000');
  const { message, act } = useAction(reload);
  const files = value?.files ?? [];
  return html`
    <h1>Trash</h1>
    <p role="status" class="status">${message || error}</p>
    <table>
      <caption class="visually-hidden">
        Files in the trash
      </caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Size</th>
          <th scope="col">Deleted</th>
          <th scope="col">Purged</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        ${
          files.length === 0
            ? html`<tr>
                <td colspan="5">The trash is empty</td>
              </tr>`
            : files.map(
                (f) =>
                  html`<tr key=${f.file_id}>
                    <td>${f.filename}</td>
                    <td class="number">${humanBytes(f.file_size)}</td>
                    <td>${humanTime(f.deleted_at)}</td>
                    <td>${humanTime(f.purge_at)}</td>
                    <td class="actions">
                      <button
                        type="button"
                        onClick=${() => act(() => api('POST', `/v1/trash/${f.file_id}/restore`), `${f.filename} restored`)}
                      >
                        Restore
                      </button>
                      <button
                        type="button"
                        onClick=${() => act(() => api('DELETE', `/v1/trash/${f.file_id}`), `${f.filename} purged`)}
                      >
                        Purge
                      </button>
                    </td>
                  </tr>`,
              )
        }
      </tbody>
    </table>
  `;
}
