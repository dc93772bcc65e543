// Model evaluation shared by the models pipeline (metrics of a package it builds) and the rollout controller
// (the quality gate): classification metrics, evaluation sets, and evaluating one through the gateway.
export * from './classification-metrics.js';
export * from './evaluation-set.js';
export * from './gateway-evaluation.js';
