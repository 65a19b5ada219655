"""The composition root: every collaborator of the three functions, built from settings.

One module per function (``ingest``, ``sender``, ``api``) imports at its top what that function
uses, so each handler loads its own stack at cold start and nothing of the others'; ``common`` holds
what they share. Handlers cache what they build once per container; tests and local mode call the
builders with their own clients. The API defers its send stack (SQS client, Powertools idempotency,
the send stores) to the first send or suppression request, because most of its cold starts serve a
read route.
"""
