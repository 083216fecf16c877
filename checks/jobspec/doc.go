// Package jobspec holds the rules about Nomad jobspecs (NV4xx): the vault,
// identity, template and secret blocks of tasks, checked on their own and against
// the agent configs and Vault objects of the same setup.
//
// A task's vault block is the most specific of its task, group and job
// blocks (world.Job.EffectiveVault). The identity Nomad logs a task in to
// Vault with is the task's identity named vault_<cluster>, else the one
// the servers build from their vault.default_identity; templates are
// consul-template text whose Vault calls package templates finds.
package jobspec
