import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { Upload } from 'tus-js-client';
import { useAction } from '../hooks';
import { accessToken, api, describe, field, type FileView, humanBytes, humanTime, type Quota } from '../api';

const PAGE_SIZE = 20;

type SortKey = 'uploaded_at' | 'filename' | 'file_size';

interface Transfer {
  readonly id: number;
  readonly name: string;
  readonly size: number;
  sent: number;
  state: 'uploading' | 'done' | 'failed';
  error?: string;
}

export function QuotaBar({ quota }: { quota: Quota | null }) {
  if (!quota) return null;
  if (quota.unlimited) return html`<p class="quota">${humanBytes(quota.used_bytes)} used (no quota)</p>`;
  return html`<p class="quota">
    <label
      >Storage used
      <progress max=${quota.total_quota_bytes} value=${quota.used_bytes}>${quota.usage_percentage.toFixed(1)}%</progress>
    </label>
    <span>${humanBytes(quota.used_bytes)} of ${humanBytes(quota.total_quota_bytes)} (${quota.usage_percentage.toFixed(1)}%)</span>
  </p>`;
}

/** Downloads through a link that lives a minute: the browser streams the file to disk itself, with its name. */
async function download(file: FileView): Promise<void> {
  const link = await api<{ url: string }>('POST', `/v1/files/${file.file_id}/links`, { expires_in_seconds: 60 });
  const anchor = document.createElement('a');
  anchor.href = link.url;
  anchor.download = file.filename;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
}

let nextTransfer = 1;

/** Your files: the quota, uploads (picker or drop, resumable over tus), and the list with its actions. */
export function FilesPage() {
  const [files, setFiles] = useState<FileView[]>([]);
  const [total, setTotal] = useState(0);
  const [page, setPage] = useState(0);
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<SortKey>('uploaded_at');
  const [quota, setQuota] = useState<Quota | null>(null);
  const [transfers, setTransfers] = useState<Transfer[]>([]);
  const [dragging, setDragging] = useState(false);
  const [dialog, setDialog] = useState<{ kind: 'share' | 'link'; file: FileView; result?: string } | null>(null);

  const load = useCallback(async () => {
    try {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(page * PAGE_SIZE), filter });
      const listed = await api<{ files: FileView[]; total_count: number }>('GET', `/v1/files?${query.toString()}`);
      setFiles(listed.files);
      setTotal(listed.total_count);
      setQuota(await api<Quota>('GET', '/v1/quota'));
    } catch (failure) {
      setMessage(describe(failure));
    }
  }, [page, filter]);
  useEffect(() => void load(), [load]);
  const { message, setMessage, act } = useAction(load);

  const update = (transfer: Transfer) => setTransfers((all) => all.map((t) => (t.id === transfer.id ? { ...transfer } : t)));
  const upload = (chosen: FileList | null) => {
    for (const file of Array.from(chosen ?? [])) {
      const transfer: Transfer = { id: nextTransfer++, name: file.name, size: file.size, sent: 0, state: 'uploading' };
      setTransfers((all) => [transfer, ...all]);
      const tus = new Upload(file, {
        endpoint: '/v1/uploads',
        metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
        retryDelays: [0, 1000, 3000, 5000],
        // The same file again goes on where it stood (the browser keeps its upload URL).
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        onBeforeRequest: async (request) => {
          const token = await accessToken();
          if (token) request.setHeader('Authorization', `Bearer ${token}`);
        },
        onProgress: (sent) => update(Object.assign(transfer, { sent })),
        onSuccess: () => {
          update(Object.assign(transfer, { sent: file.size, state: 'done' }));
          setMessage(`${file.name} uploaded`);
          void load();
        },
        onError: (error) => {
          const body = (error as { originalResponse?: { getBody(): string } }).originalResponse?.getBody();
          let problem: { detail?: string; code?: string } | undefined;
          try {
            problem = body ? (JSON.parse(body) as { detail?: string; code?: string }) : undefined;
          } catch {
            problem = undefined;
          }
          update(
            Object.assign(transfer, { state: 'failed', error: problem ? `${problem.detail} (${problem.code})` : error.message }),
          );
        },
      });
      void tus.findPreviousUploads().then((previous) => {
        if (previous[0]) tus.resumeFromPreviousUpload(previous[0]);
        tus.start();
      });
    }
  };

  const submitDialog = async (event: Event) => {
    event.preventDefault();
    if (!dialog) return;
    const form = new FormData(event.currentTarget as HTMLFormElement);
    try {
      if (dialog.kind === 'share') {
        await api('POST', `/v1/files/${dialog.file.file_id}/shares`, { username: field(form, 'username'), permission: 'read' });
        setDialog({ ...dialog, result: `Shared with ${field(form, 'username')}` });
      } else {
        const password = field(form, 'password');
        const link = await api<{ url: string }>('POST', `/v1/files/${dialog.file.file_id}/links`, {
          expires_in_seconds: Number(field(form, 'expires')),
          ...(password ? { password } : {}),
        });
        setDialog({ ...dialog, result: link.url });
      }
    } catch (failure) {
      setDialog({ ...dialog, result: describe(failure) });
    }
  };

  const sorted = [...files].sort((a, b) =>
    sort === 'filename'
      ? a.filename.localeCompare(b.filename)
      : sort === 'file_size'
        ? b.file_size - a.file_size
        : b.uploaded_at - a.uploaded_at,
  );
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return html`
    <h1>Files</h1>
    <${QuotaBar} quota=${quota} />
    <section
      class=${dragging ? 'drop dragging' : 'drop'}
      aria-label="Upload"
      onDragOver=${(e: DragEvent) => (e.preventDefault(), setDragging(true))}
      onDragLeave=${() => setDragging(false)}
      onDrop=${(e: DragEvent) => (e.preventDefault(), setDragging(false), upload(e.dataTransfer?.files ?? null))}
    >
      <label class="button"
        >Upload files
        <input
          type="file"
          multiple
          class="visually-hidden"
          onChange=${(e: Event) => upload((e.currentTarget as HTMLInputElement).files)}
      /></label>
      <span>or drop them here</span>
      <ul class="transfers" aria-live="polite">
        ${transfers.map(
          (t) =>
            html`<li key=${t.id}>
              <label
                >${t.name}
                <progress max=${t.size || 1} value=${t.state === 'done' ? t.size || 1 : t.sent}></progress>
              </label>
              <span class=${t.state}
                >${t.state === 'failed' ? t.error : t.state === 'done' ? 'done' : `${humanBytes(t.sent)} of ${humanBytes(t.size)}`}</span
              >
            </li>`,
        )}
      </ul>
    </section>
    <p role="status" class="status">${message}</p>
    <div class="toolbar">
      <label
        >Filter
        <input
          type="search"
          value=${filter}
          onInput=${(e: Event) => (setPage(0), setFilter((e.currentTarget as HTMLInputElement).value))}
      /></label>
      <label
        >Sort by
        <select value=${sort} onChange=${(e: Event) => setSort((e.currentTarget as HTMLSelectElement).value as SortKey)}>
          <option value="uploaded_at">Newest</option>
          <option value="filename">Name</option>
          <option value="file_size">Size</option>
        </select>
      </label>
    </div>
    <table>
      <caption class="visually-hidden">
        Your files
      </caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Size</th>
          <th scope="col">Uploaded</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        ${
          sorted.length === 0
            ? html`<tr>
                <td colspan="4">No files yet</td>
              </tr>`
            : sorted.map(
                (f) =>
                  html`<tr key=${f.file_id}>
                    <td>${f.filename}${f.version > 1 ? html` <small>v${f.version}</small>` : null}</td>
                    <td class="number">${humanBytes(f.file_size)}</td>
                    <td>${humanTime(f.uploaded_at)}</td>
                    <td class="actions">
                      <button type="button" onClick=${() => act(() => download(f), `Downloading ${f.filename}`)}>Download</button>
                      <button type="button" onClick=${() => setDialog({ kind: 'share', file: f })}>Share</button>
                      <button type="button" onClick=${() => setDialog({ kind: 'link', file: f })}>Link</button>
                      <button
                        type="button"
                        onClick=${() => act(() => api('DELETE', `/v1/files/${f.file_id}`), `${f.filename} moved to the trash`)}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>`,
              )
        }
      </tbody>
    </table>
    <nav class="pages" aria-label="Pages">
      <button type="button" disabled=${page === 0} onClick=${() => setPage(page - 1)}>Previous</button>
      <span>Page ${page + 1} of ${pages} (${total} files)</span>
      <button type="button" disabled=${page + 1 >= pages} onClick=${() => setPage(page + 1)}>Next</button>
    </nav>
    ${
      dialog
        ? html`<div class="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title">
            <form onSubmit=${submitDialog}>
              <h2 id="dialog-title">${dialog.kind === 'share' ? 'Share' : 'Download link for'} ${dialog.file.filename}</h2>
              ${
                dialog.kind === 'share'
                  ? html`<label>Username <input name="username" required autofocus /></label>`
                  : html`<label
                        >Expires after
                        <select name="expires">
                          <option value="3600">1 hour</option>
                          <option value="86400" selected>1 day</option>
                          <option value="604800">7 days</option>
                        </select>
                      </label>
                      <label>Password (optional) <input name="password" type="password" autocomplete="new-password" /></label>`
              }
              ${dialog.result ? html`<p role="status" class="result"><output>${dialog.result}</output></p>` : null}
              <div class="buttons">
                <button type="submit">${dialog.kind === 'share' ? 'Share' : 'Create link'}</button>
                <button type="button" onClick=${() => setDialog(null)}>Close</button>
              </div>
            </form>
          </div>`
        : null
    }
  `;
}
