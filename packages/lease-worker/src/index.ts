export {
  startLeaseWorker,
  type LeaseWorker,
  type LeaseWorkerOptions,
  type WorkOutcome,
} from './lease-worker.js';
