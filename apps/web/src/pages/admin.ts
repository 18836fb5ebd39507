import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { humanBytes, humanTime } from '../api';
import { useLoaded } from '../hooks';

interface UserRow {
  readonly user_id: string;
  readonly username: string;
  readonly email: string;
  readonly role: string;
  readonly active: boolean;
  readonly totp_enabled: boolean;
  readonly created_at: number;
}

interface ClusterView {
  readonly nodes: {
    readonly node_id: string;
    readonly address: string;
    readonly status: string;
    readonly used_bytes: number;
    readonly capacity_bytes: number;
    readonly chunk_count: number;
    readonly last_heartbeat: number;
  }[];
  readonly under_replicated_chunks: number;
  readonly jobs?: { readonly waiting: number; readonly active: number; readonly failed: number; readonly completed: number };
}

/** (Admins) the accounts. */
export function UsersPage() {
  const [filter, setFilter] = useState('');
  const { value, error } = useLoaded<{ users: UserRow[]; total_count: number }>(
    `/v1/admin/users?limit=200&filter=${encodeURIComponent(filter)}`,
  );
  return html`
    <h1>Users</h1>
    <p role="status" class="status">${error}</p>
    <label
      >Filter
      <input type="search" value=${filter} onInput=${(e: Event) => setFilter((e.currentTarget as HTMLInputElement).value)}
    /></label>
    <table>
      <thead>
        <tr>
          <th scope="col">Username</th>
          <th scope="col">Email</th>
          <th scope="col">Role</th>
          <th scope="col">Active</th>
          <th scope="col">Authenticator</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        ${(value?.users ?? []).map(
          (u) =>
            html`<tr key=${u.user_id}>
              <td>${u.username}</td>
              <td>${u.email}</td>
              <td>${u.role}</td>
              <td>${u.active ? 'yes' : 'no'}</td>
              <td>${u.totp_enabled ? 'yes' : 'no'}</td>
              <td>${humanTime(u.created_at)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <p>${value ? `${value.total_count} accounts` : ''}</p>
  `;
}

/** (Admins) the storage nodes and their state, the chunks short of copies, the repair queue. */
export function ClusterPage() {
  const { value, error, reload } = useLoaded<ClusterView>('/v1/admin/cluster');
  useEffect(() => {
    const timer = setInterval(() => void reload(), 5000);
    return () => clearInterval(timer);
  }, [reload]);
  return html`
    <h1>Cluster</h1>
    <p role="status" class="status">${error}</p>
    ${
      value
        ? html`<dl class="summary">
              <div>
                <dt>Storage nodes</dt>
                <dd>${value.nodes.length}</dd>
              </div>
              <div>
                <dt>Under-replicated chunks</dt>
                <dd>${value.under_replicated_chunks}</dd>
              </div>
              <div>
                <dt>Repair queue</dt>
                <dd>
                  ${value.jobs ? `${value.jobs.waiting} waiting, ${value.jobs.active} active, ${value.jobs.failed} failed` : '–'}
                </dd>
              </div>
            </dl>
            <table>
              <caption class="visually-hidden">
                Storage nodes
              </caption>
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Address</th>
                  <th scope="col">State</th>
                  <th scope="col">Used</th>
                  <th scope="col">Chunks</th>
                  <th scope="col">Last heartbeat</th>
                </tr>
              </thead>
              <tbody>
                ${value.nodes.map(
                  (n) =>
                    html`<tr key=${n.node_id}>
                      <td>${n.node_id}</td>
                      <td>${n.address}</td>
                      <td><span class=${`state ${n.status}`}>${n.status}</span></td>
                      <td class="number">${humanBytes(n.used_bytes)} of ${humanBytes(n.capacity_bytes)}</td>
                      <td class="number">${n.chunk_count}</td>
                      <td>${humanTime(n.last_heartbeat)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : html`<p>Loading…</p>`
    }
  `;
}
