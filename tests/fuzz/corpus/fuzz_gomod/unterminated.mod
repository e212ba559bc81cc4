module m
require (
	github.com/a v1.0.0
