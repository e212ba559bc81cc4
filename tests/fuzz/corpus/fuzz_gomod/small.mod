module m

go 1.19

require (
	github.com/a v1.0.0
	github.com/b v0.2.0 // indirect
)
