// HTTP rule actions (http-request, http-response, http-after-response): the public face.
// compileHttpRule turns the words of one rule into an HttpRule, once, at start-up; the stream
// runs lists of them with runHttpRules against itself (a RuleContext) and acts on the Verdict.
// Also here: the replies sluice builds itself, userlists and their crypt(3) passwords, and the
// http_auth* sample fetches (registered in the ACL engine when this module is imported).

import './auth-fetch.js';

export {
  CONTINUE,
  STOP,
  REWRITE_ERROR,
  STRICT_REWRITE_ERROR,
  HttpRuleError,
  VerdictKind,
  type AnswerVerdict,
  type ContinueVerdict,
  type ErrorVerdict,
  type HttpRule,
  type RuleContext,
  type RuleDir,
  type RuleWhere,
  type StopVerdict,
  type TarpitVerdict,
  type Verdict,
  type WaitForBodyVerdict,
} from './types.js';
export {
  compileHttpRule,
  hasHttpAction,
  httpActionNames,
  httpRuleErrorText,
  lastRuleIndex,
  ruleKeyword,
  runHttpRules,
} from './compile.js';
export { HttpReply, errorReply } from './reply.js';
export { httpReason } from './text.js';
export { crypt } from './crypt.js';
export { Userlist, UserlistBuilder, checkUserlistHeader, type UserlistReport } from './userlist.js';
export { resolveUserlistRefs, takeUserlistRefs, type UserlistRef, type UserlistRefError } from './auth-fetch.js';
