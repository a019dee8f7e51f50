-- Run once by the postgres image on an empty data volume
-- (/docker-entrypoint-initdb.d), as POSTGRES_USER (compose.yaml: mini).
-- One database per service: no service reads another's tables.
CREATE DATABASE mini_auth;
CREATE DATABASE mini_user;
CREATE DATABASE mini_billing;
CREATE DATABASE mini_order;
CREATE DATABASE mini_notif;
