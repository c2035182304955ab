// Public face of the log module: log formats, syslog framing, sinks, loggers and the texts
// of state-change messages. Other folders import from here only.

export type { LogRecord } from './types.js';
export { LogLevel } from './types.js';
export { newLogRecord } from './record.js';
export {
  compileLogFormat,
  bindSamples,
  registerSampleCompiler,
  sampleExpressions,
  LogFormatError,
  LOG_FORMAT_ALIASES,
  type LogFormat,
  type LogFormatOptions,
  type SampleCompiler,
  type SampleFn,
  type SampleValue,
} from './format.js';
export { formatLogLine } from './render.js';
export {
  HTTPLOG_FORMAT,
  HTTPLOG_CLF_FORMAT,
  HTTPSLOG_FORMAT,
  TCPLOG_FORMAT,
  TCPLOG_CLF_FORMAT,
  formatConnectLog,
} from './formats.js';
export {
  syslogHeader,
  frameLine,
  defaultLogFormatKind,
  wallClock,
  LOG_LEVEL_NAMES,
  LOG_FACILITY_NAMES,
  type Clock,
  type SyslogIdentity,
} from './syslog.js';
export { createLogSink, checkLogTarget, droppedLogs, type LogSink, type LogSinkOptions } from './sinks.js';
export { Logger, type LoggerOptions } from './logger.js';
export {
  serverDownMessage,
  serverUpMessage,
  serverStoppingMessage,
  serverMaintMessage,
  serverDrainMessage,
  serverLeavingMessage,
  noServerAvailableMessage,
  healthCheckMessage,
  checkReportText,
  type CheckReport,
  type ServerStateChange,
  type HealthCheckEvent,
} from './messages.js';
