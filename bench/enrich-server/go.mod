module flinkfn.dev/bench/enrich-server

go 1.22
