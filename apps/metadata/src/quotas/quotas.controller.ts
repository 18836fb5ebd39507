import { Controller } from '@nestjs/common';
import { filesApi } from '@cloudstore/contracts';
import { QuotasService } from './quotas.service';

@Controller()
@filesApi.QuotaServiceControllerMethods()
export class QuotasController implements filesApi.QuotaServiceController {
  constructor(private readonly quotas: QuotasService) {}

  getQuota(request: filesApi.GetQuotaRequest): Promise<filesApi.QuotaStatus> {
    return this.quotas.status(request.owner);
  }

  setQuota(request: filesApi.SetQuotaRequest): Promise<filesApi.QuotaStatus> {
    return this.quotas.set(request);
  }
}
