// Domain types, all derived from the generated OpenAPI schema (src/api/schema.d.ts; `npm run gen:api`).
import type { components, paths } from './schema';

export type { paths };
type Schemas = components['schemas'];

export type Me = Schemas['Me'];
/** Roles the backend knows (Me.roles is typed as string[] in the OpenAPI document). */
export type Role = 'clinician' | 'coordinator' | 'admin';
export type CaseSummary = Schemas['CaseSummary'];
export type CaseDetail = Schemas['CaseDetail'];
export type SeriesChoice = Schemas['SeriesChoiceOut'];
export type CaseList = Schemas['CasePage'];
export type Flag = Schemas['FlagOut'];
export type QualityIssue = Schemas['QualityIssueOut'];
export type WeakRegion = Schemas['WeakRegionOut'];
export type FlagVerdict = Schemas['FlagVerdictOut'];
export type VerdictIn = Schemas['FlagVerdictIn'];
export type VerdictValue = VerdictIn['verdict'];
export type JobStatus = CaseSummary['status'];
export type ModelInfo = Schemas['ModelInfo'];
export type ModelValidation = Schemas['ModelValidation'];
export type LesionValidation = Schemas['LesionValidation'];
type FilesPath = paths['/api/cases/{case_id}/files/{kind}']['get']['parameters']['path'];
export type FileKind = FilesPath['kind'];
export type ListCasesQuery = NonNullable<paths['/api/cases']['get']['parameters']['query']>;
export type ReviewState = CaseSummary['review_state'];
export type CaseVerdict = Schemas['CaseVerdictOut'];
export type CaseVerdictIn = Schemas['CaseVerdictIn'];
export type CaseVerdictValue = CaseVerdictIn['verdict'];
export type Claim = Schemas['ClaimOut'];
export type Job = Schemas['JobOut'];
export type MissedFinding = Schemas['MissedFindingOut'];
export type MissedFindingIn = Schemas['MissedFindingIn'];
export type AuditEvent = Schemas['AuditEventOut'];
export type AuditPage = Schemas['AuditPage'];
export type AuditQuery = NonNullable<paths['/api/audit']['get']['parameters']['query']>;
export type Stats = Schemas['Stats'];
export type User = Schemas['UserOut'];
export type UserCreate = Schemas['UserCreate'];
export type UserUpdate = Schemas['UserUpdate'];
export type ApiToken = Schemas['ApiTokenOut'];
export type NewApiToken = Schemas['NewApiToken'];
export type PasswordChanged = Schemas['PasswordChanged'];
export type ModelCatalogue = Schemas['ModelCatalogueOut'];
export type QueueStatus = Schemas['QueueStatusOut'];
export type StorageSpace = Schemas['StorageSpaceOut'];
export type WorkerStatus = Schemas['WorkerOut'];
