import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { filesApi } from '@cloudstore/contracts';
import { AllowedCallers, ForUser, verifiedUser } from '@cloudstore/grpc';
import { verifiedOwner } from '../files/verified-owner';
import { QuotasService } from './quotas.service';

/** Quotas, for the gateway only: a user's own (from the access token), or set by an admin. */
@Controller()
@filesApi.QuotaServiceControllerMethods()
export class QuotasController implements filesApi.QuotaServiceController {
  constructor(private readonly quotas: QuotasService) {}

  @AllowedCallers('gateway')
  @ForUser()
  getQuota(_request: filesApi.GetQuotaRequest, metadata?: Metadata): Promise<filesApi.QuotaStatus> {
    return this.quotas.status(verifiedOwner(metadata));
  }

  @AllowedCallers('gateway')
  @ForUser({ role: 'admin' })
  setQuota(request: filesApi.SetQuotaRequest, metadata?: Metadata): Promise<filesApi.QuotaStatus> {
    return this.quotas.set(request, verifiedUser(metadata));
  }
}
