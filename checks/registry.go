// Package checks is the catalog of nvlint's rules. Each subpackage holds
// the rules of one area, one rule per file, named after the rule:
//
//	input     NV0xx  files that cannot be read or recognised; suppressions
//	legacy    NV1xx  the legacy token-role flow (Nomad 1.9 and earlier)
//	identity  NV2xx  the workload-identity flow (Nomad 1.7 and later)
//	agent     NV3xx  Nomad agent configuration
//	jobspec   NV4xx  jobspecs: vault, identity, template and secret blocks of tasks
//	policy    NV5xx  Vault ACL policies
//	live      NV6xx  live clusters only (nvlint doctor, or lint --snapshot)
package checks

import (
	"github.com/nvlint/nvlint/checks/agent"
	"github.com/nvlint/nvlint/checks/identity"
	"github.com/nvlint/nvlint/checks/input"
	"github.com/nvlint/nvlint/checks/jobspec"
	"github.com/nvlint/nvlint/checks/legacy"
	"github.com/nvlint/nvlint/checks/live"
	"github.com/nvlint/nvlint/checks/policy"
	"github.com/nvlint/nvlint/rules"
)

// All returns every rule, ordered by ID.
func All() []rules.Rule {
	return []rules.Rule{
		input.ParseError,
		input.Unrecognized,
		input.DuplicateObject,
		input.UnusedSuppression,
		input.MalformedSuppression,
		legacy.ServerPolicyCapability,
		legacy.ServerCapabilitiesSelf,
		legacy.RoleNotRenewable,
		legacy.RoleExplicitMaxTTL,
		legacy.RoleNotPeriodic,
		legacy.RoleNotOrphan,
		legacy.RoleAllowsServerPolicy,
		legacy.JobPolicyNotAllowed,
		legacy.JobPolicyMissing,
		identity.AudienceMismatch,
		identity.RoleRejectsWorkload,
		identity.JWTRoleTypeNotJWT,
		identity.JWTRoleNoBoundConstraint,
		identity.JWTRoleNoUserClaim,
		identity.JWTRoleUserClaimPointer,
		identity.JWTRoleExplicitMaxTTL,
		identity.JWTRoleTokenExpires,
		identity.JWTRoleInvalidTokenSettings,
		identity.JWTRoleClaimMappingTarget,
		identity.JWTConfigKeySource,
		identity.JWTConfigAlgsMissingRS256,
		identity.JWTConfigAlgsMissingEdDSA,
		identity.JWTConfigDefaultRoleMissing,
		identity.JWTConfigJWKSURLPath,
		identity.AccessorPlaceholder,
		identity.MixedAccessors,
		identity.ClaimMappingMissing,
		identity.AccessorNotMounted,
		identity.SharedEntityAlias,
		agent.TokenInConfig,
		agent.UnknownKey,
		agent.DeprecatedKey,
		agent.TokenOnClient,
		agent.VaultRetryGivesUp,
		jobspec.TemplateSecretWithoutVault,
		jobspec.SecretTemplateOutsideSecrets,
		jobspec.VaultPoliciesIgnored,
		jobspec.VaultClusterNotConfigured,
		jobspec.VaultIdentityMissing,
		jobspec.TemplateDestinationVariable,
		jobspec.SecretWithoutVault,
		jobspec.SecretPathRefused,
		jobspec.SecretEngineMismatch,
		jobspec.SecretReferenceUndefined,
		jobspec.TemplateReadDenied,
		jobspec.TemplateEnvRestart,
		policy.TaskTokenCannotRenew,
		policy.PolicyRejectedByVault,
		policy.PolicyPathNeverMatches,
		live.Unreachable,
		live.CouldNotCheck,
		live.VaultSealed,
		live.ServerTokenCapability,
		live.ServerTokenLifetime,
		live.ServerTokenRoot,
		live.ServerTokenNotOrphan,
		live.JWKSUnreachable,
		live.JWKSStaleKeys,
		live.JWKSAlgorithm,
		live.RoleCapsRunningTasks,
		live.SigningKeyRotation,
		live.LeaseEndsRunningTasks,
		live.NodeNoVault,
		live.JWTPathNotMounted,
		live.JWTMountUnconfigured,
		live.MigrationPending,
		live.VaultVersionQuirk,
		live.NomadVersionQuirk,
		live.FailingAllocation,
	}
}
