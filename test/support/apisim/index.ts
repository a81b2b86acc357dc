export { ApiSim, DEFAULT_TOKEN, DEFAULT_USER, type ApiSimOptions, type RecordedRequest } from './server.ts';
export { writeKubeconfig } from './kubeconfig.ts';
export type { NodeBehaviour } from './behaviour.ts';
export type { ApiFaultSettings, Denial, RbacRule } from './faults.ts';
