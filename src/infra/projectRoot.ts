// The project root lives in the config layer (config may not import infra);
// re-exported here for the infra modules that already import it from here.
export { findProjectRoot, projectRoot } from '../config/projectRoot.js';
