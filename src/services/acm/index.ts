/** A minimal ACM (awsJson1_1, CertificateManager.*): imported certificates for HTTPS listeners. */
import { loadModel } from '../../aws/model.js';
import type { Operations } from '../../aws/generated/acm.js';
import { translatingErrors, type OperationHandlers, type ServiceModule } from '../../aws/service.js';
import { InvalidTokenError } from '../../core/pagination.js';
import { Certificates, validation } from './certificates.js';

export { Certificates, type TlsMaterial } from './certificates.js';

export function acmService(certificates: Certificates): ServiceModule {
  const operations: OperationHandlers<Operations> = {
    ImportCertificate: (ctx, input) => certificates.import(ctx, input),
    DescribeCertificate: (ctx, input) => certificates.describe(ctx, input.CertificateArn),
    GetCertificate: (ctx, input) => certificates.getPem(ctx, input.CertificateArn),
    ListCertificates: (ctx, input) => certificates.list(ctx, input),
    DeleteCertificate: (ctx, input) => certificates.delete(ctx, input.CertificateArn),
    AddTagsToCertificate: (ctx, input) => certificates.addTags(ctx, input.CertificateArn, input.Tags as { Key: string; Value?: string }[]),
    RemoveTagsFromCertificate: (ctx, input) => certificates.removeTags(ctx, input.CertificateArn, input.Tags as { Key: string; Value?: string }[]),
    ListTagsForCertificate: (ctx, input) => certificates.listTags(ctx, input.CertificateArn),
  };
  return {
    name: 'acm',
    model: loadModel('acm'),
    protocol: 'awsJson1_1',
    validationErrorCode: 'ValidationException',
    operations: translatingErrors(operations, (e) => (e instanceof InvalidTokenError ? validation('The NextToken is not valid.') : undefined)),
  };
}
