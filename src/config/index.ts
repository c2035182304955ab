// The configuration language: reads HAProxy configuration files into the frozen model of
// model.ts, with HAProxy's diagnostics. Other folders import this file only.

// Keyword modules register themselves in the keyword registry when imported.
import './global-keywords.js';
import './ssl-global.js';
import './logs.js';
import './proxy-keywords.js';
import './options.js';
import './balance.js';
import './bind.js';
import './ssl.js';
import './server-ssl.js';
import './server.js';
import './checks.js';
import './errorfile.js';
import './resolvers.js';

import { parseSources, type LoadOptions, type LoadResult } from './load.js';

export * from './model.js';
export { formatDiagnostic, isFatal, type Diagnostic, type DiagnosticFrame, type Severity } from './diagnostics.js';
export { parseTime, parseSize } from './units.js';
export { loadConfig, expandConfigPaths, COMPAT_VERSION, type LoadOptions, type LoadResult } from './load.js';
export type { HostResolver } from './resolve.js';
export { HTTP_LOG_FORMAT, HTTP_CLF_LOG_FORMAT, TCP_LOG_FORMAT } from './logs.js';
export {
  registerGlobalKeywords,
  registerProxyKeywords,
  registerResolversKeywords,
  registerOptions,
  registerSection,
  registerPostCheck,
  registerBindOptions,
  registerServerOptions,
  registerConditionChecker,
  registerAclLineChecker,
  registerLogFormatChecker,
  registerSampleChecks,
  checkLogFormatAt,
  type GlobalKeyword,
  type ProxyKeyword,
  type ResolversKeyword,
  type OptionDef,
  type SectionDef,
  type BindOptionDef,
  type ServerOptionDef,
  type ConditionChecker,
  type LogFormatChecker,
  type SampleChecks,
  type KeywordContext,
  type ProxyContext,
} from './registry.js';

/**
 * Parses one configuration text as if it were the file `file` (for tests and `-c` on stdin):
 * the same phases as loadConfig, without touching the file system for the configuration.
 */
export function parseConfigText(text: string, file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  return parseSources([{ file, text }], opts);
}
