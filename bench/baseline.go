package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
	_ "github.com/mattn/go-sqlite3" // the same SQLite driver the server uses
)

// The two baselines the server is compared with, each a separate process
// like the server: a bare echo handler answering the retrieve response
// from memory (the ceiling), and the same handler doing one raw
// database/sql point select on SQLite plus encoding/json (the floor).

func serveStatic(addr, bodyFile string) error {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/api/v3/sources/user_connections/oauth/:id/", func(c echo.Context) error {
		return c.JSONBlob(http.StatusOK, body)
	})
	return e.Start(addr)
}

type rawSource struct {
	Pk               string `json:"pk"`
	Name             string `json:"name"`
	Slug             string `json:"slug"`
	Enabled          bool   `json:"enabled"`
	PolicyEngineMode string `json:"policy_engine_mode"`
	UserMatchingMode string `json:"user_matching_mode"`
	UserPathTemplate string `json:"user_path_template"`
}

type rawConnection struct {
	Pk          int64     `json:"pk"`
	User        int64     `json:"user"`
	Source      string    `json:"source"`
	SourceObj   rawSource `json:"source_obj"`
	Created     time.Time `json:"created"`
	LastUpdated time.Time `json:"last_updated"`
	Identifier  string    `json:"identifier"`
}

func serveRawSQL(addr, database string) error {
	db, err := sql.Open("sqlite3", "file:"+database+"?_journal_mode=WAL&_busy_timeout=30000")
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(8)
	stmt, err := db.Prepare(`SELECT c.id, c.user_id, c.identifier, c.created, c.last_updated, s.id, s.name, s.slug, s.enabled,
		s.policy_engine_mode, s.user_matching_mode, s.user_path_template
		FROM connections c JOIN oauth_sources s ON s.id = c.source_id WHERE c.id = ?`)
	if err != nil {
		return err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/api/v3/sources/user_connections/oauth/:id/", func(c echo.Context) error {
		var r rawConnection
		err := stmt.QueryRowContext(c.Request().Context(), c.Param("id")).Scan(&r.Pk, &r.User, &r.Identifier, &r.Created,
			&r.LastUpdated, &r.SourceObj.Pk, &r.SourceObj.Name, &r.SourceObj.Slug, &r.SourceObj.Enabled,
			&r.SourceObj.PolicyEngineMode, &r.SourceObj.UserMatchingMode, &r.SourceObj.UserPathTemplate)
		r.Source = r.SourceObj.Pk
		if err == sql.ErrNoRows {
			return c.JSON(http.StatusNotFound, map[string]string{"detail": "Not found."})
		}
		if err != nil {
			return err
		}
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return c.JSONBlob(http.StatusOK, raw)
	})
	return e.Start(addr)
}

func runBaseline(args []string) int {
	if len(args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bench baseline-static ADDR BODYFILE | baseline-sql ADDR DATABASE")
		return 2
	}
	var err error
	switch args[0] {
	case "baseline-static":
		err = serveStatic(args[1], args[2])
	case "baseline-sql":
		err = serveRawSQL(args[1], args[2])
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}
