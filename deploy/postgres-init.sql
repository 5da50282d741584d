-- Runs once, on the first start of the compose `postgres` service (empty data volume).
-- Each service owns its own database (DESIGN.md §1); no service reads another's.
CREATE DATABASE papka_contractors;
CREATE DATABASE papka_documents;
CREATE DATABASE papka_interactions;
CREATE DATABASE papka_finance;
