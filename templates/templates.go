// Package templates holds the built-in agent profiles, one YAML file per
// agent. A profile says how to build the agent's command line, how to
// install it, which environment variable holds the key for a model, and how
// to read its output. Plans may define their own under `agents:`.
package templates

import "embed"

// FS holds the profiles, named NAME.yaml.
//
//go:embed *.yaml
var FS embed.FS
