"""The demo web store: a small store in memory that speaks the same wire formats as the real ones
(the Shopify Admin GraphQL subset and the WooCommerce REST v3 subset Tandem uses), with faithful
pagination, errors and throttling, and faults it can be told to produce. `tandem --demo` talks to
it in-process; tests serve it on a loopback port and talk to it over real HTTP."""
