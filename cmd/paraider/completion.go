package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/posener/complete"
	"github.com/willabides/kongplete"

	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

// Shell completion: the shell runs paraider itself with COMP_LINE set
// (posener/complete's protocol, which kongplete speaks from kong's model:
// commands, flags, enum values such as report formats), and paraider
// answers with the words that fit. Task ids come from the plan.

// CompletionCmd prints the script that hooks paraider into a shell.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish."`
}

func (c *CompletionCmd) Run(env *Env) error {
	// The shell runs this very binary to complete: by its path, so that
	// it works whatever PATH the shell has.
	self, err := os.Executable()
	if err != nil {
		self = "paraider"
	}
	q := "'" + strings.ReplaceAll(self, "'", `'\''`) + "'"
	switch c.Shell {
	case "bash":
		fmt.Fprintf(env.Stdout, "# paraider completion for bash: add to ~/.bashrc: eval \"$(paraider completion bash)\"\ncomplete -o default -C %s paraider\n", q)
	case "zsh":
		fmt.Fprintf(env.Stdout, "# paraider completion for zsh: add to ~/.zshrc: eval \"$(paraider completion zsh)\"\nautoload -U +X bashcompinit && bashcompinit\ncomplete -o default -C %s paraider\n", q)
	case "fish":
		fmt.Fprintf(env.Stdout, "# paraider completion for fish: paraider completion fish > ~/.config/fish/completions/paraider.fish\ncomplete -c paraider -f -a '(env COMP_LINE=(commandline -cp) %s)'\n", strings.ReplaceAll(q, "'", `\'`))
	}
	return nil
}

// completeShell answers a shell's completion request (COMP_LINE set) and
// reports whether it did.
func completeShell(parser *kong.Kong) bool {
	if os.Getenv("COMP_LINE") == "" {
		return false
	}
	done := false
	kongplete.Complete(parser,
		kongplete.WithPredictor("task", complete.PredictFunc(predictTasks)),
		kongplete.WithPredictor("yaml", complete.PredictFiles("*.yaml")),
		kongplete.WithExitFunc(func(int) { done = true }),
	)
	return done
}

// predictTasks are the plan's task ids: the plan named with -f on the
// line, else paraider.yaml here; from the generated plan when the plan
// does not load.
func predictTasks(complete.Args) []string {
	file := "paraider.yaml"
	words := strings.Fields(os.Getenv("COMP_LINE")) // the whole line: -f may come before the command
	for i, w := range words {
		if (w == "-f" || w == "--file") && i+1 < len(words) {
			file = words[i+1]
		} else if v, ok := strings.CutPrefix(w, "--file="); ok {
			file = v
		}
	}
	if p, err := plan.Load(file); err == nil {
		ids := make([]string, 0, len(p.Tasks))
		for _, t := range p.Tasks {
			ids = append(ids, t.ID)
		}
		return ids
	}
	var run state.Run
	state.ReadJSON(filepath.Join(filepath.Dir(file), filepath.FromSlash(state.RunPath)), &run)
	return run.Tasks
}
