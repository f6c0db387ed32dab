package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/paraider/paraider/internal/lazy"
	"github.com/paraider/paraider/state"
)

var idPattern = lazy.Regexp(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ValidID reports whether s can be a task id.
func ValidID(s string) bool { return len(s) <= MaxIDLength && idPattern().MatchString(s) }

// Limits on what a plan may hold. Each is far above what a real plan
// needs; past it the value is a typo or an attack, and would fail later
// in a worse place (Ninja's pool depth, a 2 GB read, a file name).
const (
	MaxPlanSize   = 10 << 20 // bytes of the plan file, and of a message file
	MaxIDLength   = 100      // a task id is a file name in .paraider/
	MaxJobs       = 1000
	MaxRetries    = 100
	MaxTimeout    = 7 * 24 * time.Hour
	MaxRetryDelay = time.Hour
	MaxEstimate   = 7 * 24 * time.Hour
	MaxBudget     = 1e6 // dollars
)

// NoPlanError says there is no plan file: nothing is invalid yet.
type NoPlanError struct{ File string }

func (e *NoPlanError) Error() string { return "no plan: " + e.File + " does not exist" }

// Hint says how to get one, with what an installed paraider has.
func (e *NoPlanError) Hint() string {
	return "`paraider init` writes a starter plan; `paraider plan \"GOAL\"` has an agent write one; -f FILE names another"
}

// Load reads and checks the plan in file. On any problem it returns Errors
// holding all of them.
func Load(file string) (*Plan, error) {
	data, err := Read(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

// Read is the bytes of the plan in file, as Load reads them: a regular
// file of at most MaxPlanSize bytes, or Load's error.
func Read(file string) ([]byte, error) {
	data, err := readRegular(file, MaxPlanSize)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &NoPlanError{File: file}
		}
		var le *limitError
		if errors.As(err, &le) {
			return nil, Errors{{File: file, Msg: le.msg, Hint: le.hint}}
		}
		return nil, Errors{{File: file, Msg: shortErr(err)}}
	}
	return data, nil
}

// limitError says why a file was not read: not a regular file, or too large.
type limitError struct{ msg, hint string }

func (e *limitError) Error() string { return e.msg }

// readRegular reads a regular file of at most max bytes. It looks before it
// opens: opening a FIFO would block until a writer came, and /dev/zero
// never ends.
func readRegular(name string, max int64) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &limitError{msg: fmt.Sprintf("not a regular file (%s)", state.FileKind(fi.Mode())), hint: "name a plain file"}
	}
	if fi.Size() > max {
		return nil, &limitError{msg: fmt.Sprintf("%d bytes, more than the %d MiB paraider reads", fi.Size(), max>>20), hint: "is this the right file?"}
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have grown since the look.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(data)) > max {
		return nil, &limitError{msg: fmt.Sprintf("more than the %d MiB paraider reads", max>>20), hint: "is this the right file?"}
	}
	return data, err
}

// Parse checks a plan held in memory; file names it in errors and fixes the
// root that paths are relative to.
func Parse(file string, data []byte) (*Plan, error) {
	d := &decoder{file: file, lines: strings.Split(string(data), "\n")}
	p := &Plan{
		File:    file,
		Root:    filepath.Dir(file),
		Version: 1,
		Jobs:    DefaultJobs,
		Settings: Settings{Agent: DefaultAgent, Settings: state.Settings{
			Timeout:    state.Duration(DefaultTimeout),
			Retries:    DefaultRetries,
			RetryDelay: state.Duration(DefaultRetryDelay),
		}},
		byID: map[string]*Task{},
	}
	p.Sources = []string{filepath.Base(file)}

	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		msg := yamlLineRE().ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "")
		line, col := d.yamlPosition(err)
		hint := "check the indentation and quoting; a value holding \": \" or starting with a special character needs quotes"
		if line > 0 && line <= len(d.lines) && col <= len(d.lines[line-1]) && d.lines[line-1][col-1] == '\t' {
			msg, hint = "a tab in the indentation", "indent with spaces: YAML does not take tabs"
		}
		d.errorf(line, col, hint, "%s", msg)
		return nil, d.errs
	}
	var more yaml.Node
	if err := dec.Decode(&more); err != io.EOF {
		line := more.Line
		if err != nil {
			line = yamlErrorLine(err)
		} else if len(more.Content) > 0 {
			line = more.Content[0].Line
		}
		// Point at the `---` that starts it.
		for l := line; l >= 1 && l <= len(d.lines); l-- {
			if strings.HasPrefix(d.lines[l-1], "---") {
				line = l
				break
			}
		}
		d.errorf(line, 1, "a plan is one YAML document: remove the `---` and what follows, or merge it into the first", "a second YAML document in the plan")
		return nil, d.errs
	}
	if len(doc.Content) == 0 {
		d.errs = append(d.errs, &Error{File: file, Msg: "the plan is empty", Hint: "a plan needs at least `version: 1` and `tasks:`"})
		return nil, d.errs
	}
	d.plan(p, doc.Content[0])
	// The graph checks run even after other problems, over the tasks that
	// have a usable id, so that one run reports them all.
	d.graph(p)
	if len(d.errs) > 0 {
		return nil, d.errs.sorted()
	}
	return p, nil
}

func (d *decoder) plan(p *Plan, root *yaml.Node) {
	tasksNode, at := d.planFields(p, root)
	if deref(root).Kind != yaml.MappingNode {
		return
	}
	d.where(p)
	if p.Undeclared == "" {
		p.Undeclared = state.UndeclaredFail
	}
	nodes := d.tasks(p, tasksNode)
	d.resolve(p, nodes)
	d.settleRepairs(p, nodes)
	d.isolation(p, at, nodes)
	for _, t := range p.Tasks {
		d.taskPaths(p, t, nodes[t])
	}
	d.repairPaths(p)
}
