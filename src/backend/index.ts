export { Backend, AssignResult, type BalanceInput } from './backend.js';
export { Server, SrvState, Observed, observedStatus, type ServerCounters, type ServerCheckView } from './server.js';
export { PendingQueue, type Pending } from './queue.js';
