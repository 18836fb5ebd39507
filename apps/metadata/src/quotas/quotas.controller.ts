import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { filesApi, QUOTA_SERVICE } from '@cloudstore/contracts';
import { QuotasService } from './quotas.service';

const SERVICE = QUOTA_SERVICE.serviceName;

@Controller()
export class QuotasController {
  constructor(private readonly quotas: QuotasService) {}

  @GrpcMethod(SERVICE, 'GetQuota')
  getQuota(request: filesApi.GetQuotaRequest): Promise<filesApi.QuotaStatus> {
    return this.quotas.status(request.owner);
  }

  @GrpcMethod(SERVICE, 'SetQuota')
  setQuota(request: filesApi.SetQuotaRequest): Promise<filesApi.QuotaStatus> {
    return this.quotas.set(request);
  }
}
