// A go.mod with every directive.
module "example.com/acme/server" // quoted path

go 1.21
toolchain go1.21.3

godebug (
	default=go1.21
	panicnil=1
)

require github.com/single/line v1.2.3
require github.com/single/indirect v0.1.0 // indirect

require (
	github.com/a/direct v1.0.0
	github.com/b/indirect v2.3.4+incompatible // indirect
	// a comment line inside the block
	golang.org/x/sys v0.0.0-20230101000000-abcdef123456 // indirect; needed by b
	`example.com/raw` v1.0.0-rc.1
)

replace (
	github.com/a/direct => ../direct
	github.com/b/indirect v2.3.4+incompatible => github.com/fork/b v2.3.5
)
exclude github.com/bad/mod v1.0.1
retract [v1.1.0, v1.2.0]
retract (
	v0.9.0 // oops
)
tool golang.org/x/tools/cmd/stringer
require ()
