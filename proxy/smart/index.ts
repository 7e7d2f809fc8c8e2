// Public surface of smart routing (complexity tiers and cascades): the settings section, the
// feature reader, the classifier, cascade helpers and the savings report. Pure modules only;
// the gateway and routing wire them in. Must not import the pipeline stages, store or admin.
export {
  CASCADE_TRIGGERS,
  CascadeSchema,
  DEFAULT_TIER_TARGETS,
  parseSmartSettings,
  SmartSettingsError,
  SmartSettingsSchema,
  SmartTargetSchema,
  ThresholdsSchema,
  TierRuleSchema,
  TIERS,
  type Cascade,
  type CascadeTrigger,
  type SmartSettings,
  type SmartTarget,
  type Thresholds,
  type Tier,
  type TierRule,
} from './schema.js';
export {
  extractFeatures,
  looksLikeCode,
  recordedFeatures,
  LAST_TURN_PARSE_BYTES,
  USER_TEXT_MAX_CHARS,
  type Features,
  type RecordedFeatures,
} from './features.js';
export { classify, compileClassifierConfig, type Classification, type ClassifierConfig, type CompiledRule } from './classifier.js';
export { escalationReason, readResponseEnd, stopReasonOf, type AttemptOutcome, type ResponseEnd } from './cascade.js';
export {
  routeSavings,
  savingsByRoute,
  usageOfRow,
  type RouteSavings,
  type SavingsRow,
  type SavingsTotals,
  type TierSavings,
} from './savings.js';
