/**
 * A mistake in what the user gave — a flag, a config field, a path that is not what the command takes — as opposed to
 * a failure while doing the work. The CLI exits 2 (usage) for these and 1 for everything else; every kind of input
 * mistake (UsageError, ConfigError, a folder that is not a run directory) extends this one class.
 */
export class InputError extends Error {}
