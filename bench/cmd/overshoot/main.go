// Command overshoot reads result records and prints how long each attempt
// took against the timeout it had: for bench/timeout-load.sh.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: overshoot TIMEOUT RESULT.json...")
		os.Exit(2)
	}
	timeout, err := time.ParseDuration(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var took []time.Duration
	for _, f := range os.Args[2:] {
		var r struct {
			Attempts []struct {
				Failure    string
				Start, End time.Time
			}
		}
		data, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(data, &r)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, a := range r.Attempts {
			d := a.End.Sub(a.Start)
			took = append(took, d)
			fmt.Printf("%-16s %-8s %s\n", filepath.Base(f), a.Failure, d.Round(time.Millisecond))
		}
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	if len(took) == 0 {
		fmt.Println("no attempts")
		os.Exit(1)
	}
	fmt.Printf("attempts %d, timeout %s, median %s, longest %s: %s past the timeout\n",
		len(took), timeout, took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), (took[len(took)-1] - timeout).Round(time.Millisecond))
}
