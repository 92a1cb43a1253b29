// enrich-server is the async-enrichment benchmark's outside world: GET /users/<id> answers {"name":"User <id>"}
// after a fixed delay. It is written in Go so that the server is not what limits the benchmark: the JDK's
// HttpServer, used before, topped out near 1,500 calls/s with 100 in flight and dropped connections, so both the
// TypeScript and the Java variant measured the server. Both variants call this one process in the same run.
//
//	enrich-server -delay 10ms   prints "listening <port>" on its first line, then serves until SIGTERM/SIGINT,
//	                            when it prints one JSON line of counts and exits.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	delay := flag.Duration("delay", 10*time.Millisecond, "how long each call waits before it is answered")
	flag.Parse()

	var calls, open, maxOpen atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		now := open.Add(1)
		for {
			seen := maxOpen.Load()
			if now <= seen || maxOpen.CompareAndSwap(seen, now) {
				break
			}
		}
		defer open.Add(-1)
		select {
		case <-time.After(*delay):
		case <-r.Context().Done():
			return
		}
		body, _ := json.Marshal(map[string]string{"name": "User " + strings.TrimSpace(r.PathValue("id"))})
		w.Header().Set("content-type", "application/json")
		w.Write(body)
	})

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "enrich-server:", err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", listener.Addr().(*net.TCPAddr).Port)

	server := &http.Server{Handler: mux}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(ctx)
	}()
	if err := server.Serve(listener); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "enrich-server:", err)
		os.Exit(1)
	}
	fmt.Printf("{\"calls\":%d,\"maxOpen\":%d}\n", calls.Load(), maxOpen.Load())
}
