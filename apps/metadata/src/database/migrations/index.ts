import { CreateStorageNodes1795901717457 } from './1795901717457-CreateStorageNodes';
import { CreateAuditLog1795903507049 } from './1795903507049-CreateAuditLog';
import { CreateFilesAndQuotas1795904302375 } from './1795904302375-CreateFilesAndQuotas';
import { AddUserFileCount1795905702089 } from './1795905702089-AddUserFileCount';
import { AddTrash1795909532021 } from './1795909532021-AddTrash';
import { AddEncryptionAtRest1795910238031 } from './1795910238031-AddEncryptionAtRest';
import { AddRepairDetection1795912405117 } from './1795912405117-AddRepairDetection';
import { AddOpenUploadsByOwnerIndex1796171341605 } from './1796171341605-AddOpenUploadsByOwnerIndex';
import { AddNodeDiskId1796171367929 } from './1796171367929-AddNodeDiskId';
import { PerOwnerFileIds1796192774215 } from './1796192774215-PerOwnerFileIds';
import { AddAuditChain1796232999721 } from './1796232999721-AddAuditChain';
import { AddUserKeys1796233514291 } from './1796233514291-AddUserKeys';
import { AddAuditChainKeys1796236227213 } from './1796236227213-AddAuditChainKeys';
import { AddAccountErasure1796240869869 } from './1796240869869-AddAccountErasure';
import { AddFileShares1796255458069 } from './1796255458069-AddFileShares';
import { AddDownloadLinks1796256259998 } from './1796256259998-AddDownloadLinks';
import { AddFileVersions1796256849906 } from './1796256849906-AddFileVersions';
import { AddResumableUploads1796261000000 } from './1796261000000-AddResumableUploads';
import { AddUploadIndexUnique1796261500000 } from './1796261500000-AddUploadIndexUnique';

/** In the order they run; `npm run migration:generate` keeps this list. */
export const METADATA_MIGRATIONS = [
  CreateStorageNodes1795901717457,
  CreateAuditLog1795903507049,
  CreateFilesAndQuotas1795904302375,
  AddUserFileCount1795905702089,
  AddTrash1795909532021,
  AddEncryptionAtRest1795910238031,
  AddRepairDetection1795912405117,
  AddOpenUploadsByOwnerIndex1796171341605,
  AddNodeDiskId1796171367929,
  PerOwnerFileIds1796192774215,
  AddAuditChain1796232999721,
  AddUserKeys1796233514291,
  AddAuditChainKeys1796236227213,
  AddAccountErasure1796240869869,
  AddFileShares1796255458069,
  AddDownloadLinks1796256259998,
  AddFileVersions1796256849906,
  AddResumableUploads1796261000000,
  AddUploadIndexUnique1796261500000,
];
