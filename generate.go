package main

//go:generate go tool oapi-codegen -config gen/oapi-codegen.yaml openapi.yaml
