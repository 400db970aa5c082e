/** The STS service module (awsQuery): GetCallerIdentity, AssumeRole, GetSessionToken, GetAccessKeyInfo. */
import { loadModel } from '../../aws/model.js';
import type { Operations } from '../../aws/generated/sts.js';
import type { OperationHandlers, ServiceModule } from '../../aws/service.js';
import type { StsSessions } from './sessions.js';

export { StsSessions } from './sessions.js';

export function stsService(sessions: StsSessions): ServiceModule {
  const operations: OperationHandlers<Operations> = {
    GetCallerIdentity: (ctx) => sessions.getCallerIdentity(ctx),
    AssumeRole: (ctx, input) => sessions.assumeRole(ctx, input),
    GetSessionToken: (ctx, input) => sessions.getSessionToken(ctx, input),
    // Dockyard has one account: every key it knows belongs to it.
    GetAccessKeyInfo: (ctx) => ({ Account: ctx.accountId }),
  };
  return { name: 'sts', model: loadModel('sts'), protocol: 'awsQuery', validationErrorCode: 'ValidationError', operations };
}
