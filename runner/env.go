package runner

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paraider/paraider/agent"
)

func (r *runner) preflight() error {
	s := r.spec
	argv, err := agent.Expand(s.Agent.Command, agent.Vars{Model: s.Model, Task: s.ID})
	if err != nil {
		return &PreflightError{Task: s.ID, Msg: "agent " + s.Agent.Name + ": " + err.Error()}
	}
	if _, err := lookPath(argv[0], r.env); err != nil {
		hint := s.Agent.Install
		if hint == "" {
			hint = "install it, or put it on PATH"
		}
		return &PreflightError{Task: s.ID, Msg: fmt.Sprintf("agent %q: %s not found on PATH", s.Agent.Name, argv[0]), Fix: hint}
	}
	if key := s.Agent.KeyFor(s.Model); key != "" && getenv(r.env, key) == "" {
		return &PreflightError{Task: s.ID,
			Msg: fmt.Sprintf("model %s needs %s, which is not set", s.Model, key),
			Fix: fmt.Sprintf("export %s=... before running ninja; without it %s would wait for a login instead of working", key, s.Agent.Name)}
	}
	return nil
}

// mergeEnv overlays extra on env (KEY=VALUE lists); later wins.
func mergeEnv(env []string, extra map[string]string) []string {
	out := make([]string, 0, len(env)+len(extra))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, over := extra[k]; !over {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+extra[k])
	}
	return out
}

func getenv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// lookPath finds a program on the PATH of env, not of this process.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return exec.LookPath(name)
	}
	for _, dir := range filepath.SplitList(getenv(env, "PATH")) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("not found")
}
