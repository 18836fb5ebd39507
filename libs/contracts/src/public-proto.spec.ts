import { join } from 'node:path';
import { type Method, Root } from 'protobufjs';

const PROTO_FILE = join(__dirname, '../../../proto/cloudstorage/v1/cloud_storage.proto');

/** The public API exactly as the seed specifies it: RPC → [request, response, client stream, server stream]. */
const SEED_RPCS: Record<string, [string, string, boolean, boolean]> = {
  Register: ['RegisterRequest', 'RegisterResponse', false, false],
  Login: ['LoginRequest', 'LoginResponse', false, false],
  VerifyOTP: ['VerifyOTPRequest', 'VerifyOTPResponse', false, false],
  RefreshToken: ['RefreshTokenRequest', 'RefreshTokenResponse', false, false],
  UploadFile: ['UploadFileRequest', 'UploadFileResponse', true, false],
  DownloadFile: ['DownloadFileRequest', 'DownloadFileResponse', false, true],
  ListFiles: ['ListFilesRequest', 'ListFilesResponse', false, false],
  DeleteFile: ['DeleteFileRequest', 'DeleteFileResponse', false, false],
  GetQuotaStatus: ['GetQuotaStatusRequest', 'GetQuotaStatusResponse', false, false],
};

/** Every message of the seed: field → [number, type, repeated]. */
const SEED_MESSAGES: Record<string, Record<string, [number, string, boolean?]>> = {
  RegisterRequest: { username: [1, 'string'], email: [2, 'string'], password: [3, 'string'] },
  RegisterResponse: { success: [1, 'bool'], message: [2, 'string'], user_id: [3, 'string'], created_at: [4, 'int64'] },
  LoginRequest: { username: [1, 'string'], password: [2, 'string'] },
  LoginResponse: {
    success: [1, 'bool'],
    message: [2, 'string'],
    session_id: [3, 'string'],
    otp_method: [4, 'string'],
    otp_expires_at: [5, 'int64'],
  },
  VerifyOTPRequest: { session_id: [1, 'string'], otp: [2, 'string'] },
  VerifyOTPResponse: {
    success: [1, 'bool'],
    message: [2, 'string'],
    auth_token: [3, 'string'],
    token_type: [4, 'string'],
    expires_at: [5, 'int64'],
  },
  RefreshTokenRequest: { current_token: [1, 'string'] },
  RefreshTokenResponse: { success: [1, 'bool'], message: [2, 'string'], new_token: [3, 'string'], expires_at: [4, 'int64'] },
  UploadFileRequest: { auth_token: [1, 'string'], filename: [2, 'string'], chunk: [3, 'bytes'], file_id: [4, 'string'] },
  UploadFileResponse: {
    success: [1, 'bool'],
    message: [2, 'string'],
    file_id: [3, 'string'],
    file_size: [4, 'int64'],
    checksum: [5, 'string'],
    storage_nodes: [6, 'string', true],
  },
  DownloadFileRequest: { auth_token: [1, 'string'], file_id: [2, 'string'] },
  DownloadFileResponse: { chunk: [1, 'bytes'], is_final: [2, 'bool'] },
  ListFilesRequest: { auth_token: [1, 'string'], limit: [2, 'int32'], offset: [3, 'int32'], filter: [4, 'string'] },
  ListFilesResponse: { success: [1, 'bool'], files: [2, 'FileInfo', true], total_count: [3, 'int32'] },
  FileInfo: {
    file_id: [1, 'string'],
    filename: [2, 'string'],
    file_size: [3, 'int64'],
    uploaded_at: [4, 'int64'],
    checksum: [5, 'string'],
  },
  DeleteFileRequest: { auth_token: [1, 'string'], file_id: [2, 'string'] },
  DeleteFileResponse: { success: [1, 'bool'], message: [2, 'string'], freed_bytes: [3, 'int64'] },
  GetQuotaStatusRequest: { auth_token: [1, 'string'] },
  GetQuotaStatusResponse: {
    success: [1, 'bool'],
    total_quota_bytes: [2, 'int64'],
    used_bytes: [3, 'int64'],
    available_bytes: [4, 'int64'],
    usage_percentage: [5, 'double'],
  },
};

describe('cloudstorage.v1 public proto', () => {
  const root = new Root().loadSync(PROTO_FILE, { keepCase: true });
  const service = root.lookupService('cloudstorage.v1.CloudStorageService');

  it('declares package cloudstorage.v1 with the service CloudStorageService', () => {
    expect(service.fullName).toBe('.cloudstorage.v1.CloudStorageService');
  });

  it.each(Object.entries(SEED_RPCS))(
    'has rpc %s with the seed signature',
    (name, [request, response, clientStream, serverStream]) => {
      const method = service.methods[name] as Method | undefined;
      expect(method).toBeDefined();
      expect({
        request: method?.requestType,
        response: method?.responseType,
        clientStream: Boolean(method?.requestStream),
        serverStream: Boolean(method?.responseStream),
      }).toEqual({ request, response, clientStream, serverStream });
    },
  );

  it.each(Object.entries(SEED_MESSAGES))('message %s keeps every seed field, name and number', (messageName, fields) => {
    const type = root.lookupType(`cloudstorage.v1.${messageName}`);
    for (const [fieldName, [id, fieldType, repeated]] of Object.entries(fields)) {
      const field = type.fields[fieldName];
      expect({ field: fieldName, id: field?.id, type: field?.type, repeated: Boolean(field?.repeated) }).toEqual({
        field: fieldName,
        id,
        type: fieldType,
        repeated: Boolean(repeated),
      });
    }
  });

  // The seed's numbers are 1…n without gaps, so a reused number cannot even load: what can regress
  // is an addition nobody meant (a wire change clients of the seed never agreed to), or an added
  // field numbered inside the seed's range. Every addition is listed here on purpose.
  it('adds to the seed messages only these fields, each numbered after every seed field', () => {
    const added: Record<string, Record<string, number>> = {};
    for (const [messageName, fields] of Object.entries(SEED_MESSAGES)) {
      const type = root.lookupType(`cloudstorage.v1.${messageName}`);
      const extra = Object.values(type.fields).filter((f) => !(f.name in fields));
      if (extra.length > 0) added[messageName] = Object.fromEntries(extra.map((f) => [f.name, f.id]));
      const highestSeedNumber = Math.max(...Object.values(fields).map(([id]) => id));
      expect(extra.filter((f) => f.id <= highestSeedNumber).map((f) => `${messageName}.${f.name} = ${f.id}`)).toEqual([]);
    }
    expect(added).toEqual({
      VerifyOTPResponse: { refresh_token: 6, refresh_expires_at: 7 },
      RefreshTokenRequest: { refresh_token: 2 },
      RefreshTokenResponse: { refresh_token: 5, refresh_expires_at: 6, token_type: 7 },
      UploadFileRequest: { file_size: 5, upload_id: 6, offset: 7 },
      FileInfo: { deleted_at: 6, purge_at: 7, shared_by: 8, version: 9 },
      DownloadFileRequest: { version_id: 3 },
      GetQuotaStatusResponse: { unlimited: 6 },
    });
  });
});
