export {
  startSimulators,
  DEFAULT_PORTS,
  type SimulatorName,
  type SimulatorsOptions,
  type RunningSimulators,
} from './simulators.js';
export { startProductSimulator, type ProductSimulatorOptions } from './product.server.js';
export { startUserSimulator, type UserSimulatorOptions } from './user.server.js';
export {
  startPaymentGateway,
  CHARGE_FAILURE_MESSAGE,
  type PaymentGatewayOptions,
  type Charge,
  type Refund,
  type OrderPayments,
} from './payment-gateway.server.js';
export {
  startFulfilmentPartner,
  PLACEMENT_FAILURE_MESSAGE,
  type FulfilmentPartnerOptions,
  type Placement,
} from './fulfilment-partner.server.js';
export {
  seedProfile,
  fastProfile,
  loadProfile,
  parseProfile,
  ProfileError,
  type Profile,
  type ProfileFile,
  type ProductBehaviour,
  type UserBehaviour,
  type PaymentBehaviour,
  type FulfilmentBehaviour,
} from './profile.js';
export type { RunningSimulator, ListenOptions, RequestLogEntry } from './http.js';
export { loadSimulatorsConfig, SimulatorsEnv, type SimulatorsConfig } from './config.js';
