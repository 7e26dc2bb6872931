-- One database per service (SPEC §1). The services would create their own if missing; creating them here
-- makes the layout visible and lets the services run with a role that cannot create databases.
CREATE DATABASE orders;
CREATE DATABASE inventory;
CREATE DATABASE payments;
CREATE DATABASE fulfilment;
CREATE DATABASE notifications;
