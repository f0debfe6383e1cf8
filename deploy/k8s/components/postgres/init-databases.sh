#!/usr/bin/env bash
# Creates one database and one login role per motcua service on a fresh PostgreSQL data folder. The
# official postgres image runs it once, from /docker-entrypoint-initdb.d, as the superuser; each
# <SERVICE>_DB_PASSWORD comes from the environment (a Secret in Kubernetes, compose.yaml with Docker).
set -euo pipefail

for service in intake signing receipt reporting; do
  password_variable="${service^^}_DB_PASSWORD"
  password="${!password_variable:?$password_variable is not set}"
  # psql's :"name" and :'password' quote the identifier and the literal, whatever they contain.
  psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v name="$service" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
  echo "init-databases: created database and role $service"
done
