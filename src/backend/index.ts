export { Backend, AssignResult, type BalanceInput } from './backend.js';
export { Server, SrvState, type ServerCounters } from './server.js';
export { PendingQueue, type Pending } from './queue.js';
