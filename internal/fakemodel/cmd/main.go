// Command fakemodel runs the scripted Messages API server and prints
// its URL, for trying an agent CLI against it by hand.
package main

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/paraider/paraider/internal/fakemodel"
)

func main() {
	s, err := fakemodel.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(os.Args) > 1 {
		f, err := os.Create(os.Args[1])
		if err == nil {
			s.Log = f
		}
	}
	fmt.Println(s.URL)
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	<-c
	s.Close()
}
