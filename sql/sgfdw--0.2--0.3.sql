-- sgfdw 0.2 -> 0.3: sharing images between engines, building them from Splitfiles, and
-- checking out images as layered foreign tables.
\echo Use "ALTER EXTENSION sgfdw UPDATE TO '0.3'" to load this file. \quit
