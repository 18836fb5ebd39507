import { Inject, Injectable } from '@nestjs/common';
import type { MetadataConfig } from '@cloudstore/config';
import { type filesApi, InvalidArgumentError } from '@cloudstore/contracts';
import { Metrics } from '@cloudstore/observability';
import { Gauge } from 'prom-client';
import { adminAuditEvent } from '../audit/audit-entry';
import { AuditLogRepository } from '../audit/audit-log.repository';
import { METADATA_CONFIG } from '../metadata.tokens';
import { NodeRegistryRepository } from '../node-registry/node-registry.repository';
import { isUuid } from '../uuid';
import { QuotasRepository } from './quotas.repository';

/** The share of their quota from which users count as near it, for an alert before uploads fail. */
export const NEAR_QUOTA_FRACTION = 0.9;

/** Quota status from the committed numbers; role defaults and custom quotas set by admins. */
@Injectable()
export class QuotasService {
  constructor(
    private readonly quotas: QuotasRepository,
    private readonly nodes: NodeRegistryRepository,
    private readonly auditLog: AuditLogRepository,
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
    metrics: Metrics,
  ) {
    // Read from the database when Prometheus scrapes, like the gauges of ClusterStatusService.
    new Gauge({
      name: 'cloudstore_users_near_quota',
      help: 'Users whose used bytes are at least `threshold` of their quota (users without a limit never count).',
      labelNames: ['threshold'],
      registers: [metrics.registry],
      async collect() {
        this.set({ threshold: String(NEAR_QUOTA_FRACTION) }, await quotas.countNearLimit(NEAR_QUOTA_FRACTION));
      },
    });
  }

  async status(owner: filesApi.Owner | undefined): Promise<filesApi.QuotaStatus> {
    if (!owner?.userId || !isUuid(owner.userId)) throw new InvalidArgumentError('owner is required');
    await this.quotas.ensure(owner.userId, owner.role);
    return this.statusOf(owner.userId);
  }

  /** `admin`: who sets it, for the audit log. */
  async set(
    request: filesApi.SetQuotaRequest,
    admin: { readonly userId: string; readonly username: string },
  ): Promise<filesApi.QuotaStatus> {
    if (!isUuid(request.userId)) throw new InvalidArgumentError('user_id must be a UUID');
    if (request.quotaBytes !== undefined && (!Number.isSafeInteger(request.quotaBytes) || request.quotaBytes < -1)) {
      throw new InvalidArgumentError('quota_bytes must be a byte count, or -1 for the role default');
    }
    if (request.role && !['basic', 'premium', 'admin'].includes(request.role))
      throw new InvalidArgumentError('role must be basic, premium or admin');
    await this.quotas.set(request.userId, {
      ...(request.quotaBytes !== undefined ? { quotaBytes: request.quotaBytes === -1 ? null : request.quotaBytes } : {}),
      ...(request.role ? { role: request.role } : {}),
    });
    if (request.quotaBytes !== undefined) {
      // -1: back to the role's default.
      await this.auditLog.append([
        adminAuditEvent(admin, 'admin.quota_update', { quotaBytes: request.quotaBytes }, request.userId),
      ]);
    }
    return this.statusOf(request.userId);
  }

  private async statusOf(userId: string): Promise<filesApi.QuotaStatus> {
    const row = await this.quotas.find(userId);
    const used = row?.usedBytes ?? 0;
    const reserved = row?.reservedBytes ?? 0;
    if (row && row.limitBytes === null) {
      // Unlimited: what is available is what the cluster can still hold, per copy.
      const live = (await this.nodes.listWithLiveness(this.config.NODE_DOWN_AFTER_SECONDS)).filter((n) => n.alive);
      const free = live.reduce((sum, n) => sum + Math.max(0, n.capacityBytes - n.usedBytes), 0);
      const copies = Math.max(1, Math.min(this.config.REPLICATION_FACTOR, live.length));
      return {
        totalQuotaBytes: 0,
        usedBytes: used,
        availableBytes: Math.floor(free / copies),
        usagePercentage: 0,
        unlimited: true,
        reservedBytes: reserved,
      };
    }
    const total = row?.limitBytes ?? this.config.DEFAULT_QUOTA_BYTES;
    return {
      totalQuotaBytes: total,
      usedBytes: used,
      availableBytes: Math.max(0, total - used),
      usagePercentage: total > 0 ? Math.round((used / total) * 10000) / 100 : used > 0 ? 100 : 0,
      unlimited: false,
      reservedBytes: reserved,
    };
  }
}
