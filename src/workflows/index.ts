// The workflow bundle's entry point: every workflow the worker registers.
export { grantReconcilerWorkflow } from './grantReconcilerWorkflow.js';
export { relationshipWorkflow } from './relationshipWorkflow.js';
