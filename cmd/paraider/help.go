package main

import (
	"fmt"
	"strings"
)

// HelpCmd prints the usage, or one command's.
type HelpCmd struct {
	Command []string `arg:"" optional:"" help:"Command to explain."`
}

func (h *HelpCmd) Run(cli *CLI, env *Env) error {
	if code := paraider(append(append([]string(nil), h.Command...), "--help"), env.Stdout, env.Stderr); code != exitOK {
		return errUsage{fmt.Errorf("no command %q: paraider help lists them", strings.Join(h.Command, " "))}
	}
	return nil
}
