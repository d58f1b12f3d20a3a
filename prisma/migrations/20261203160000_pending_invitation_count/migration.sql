-- The pending-invitation cap (PENDING_INVITATIONS_PER_PARTNER) is checked against a count the
-- database keeps itself, on the partner's row: an offer locks that row and inserts in one statement,
-- so two concurrent offers cannot both take the last place, with no lock in Redis and no COUNT(*)
-- per offer. The triggers keep the count right however a relationship enters or leaves `invited`
-- (the workflow's transitions, the reconciler, an offer whose workflow could not start, a purge).

-- AlterTable
ALTER TABLE "partners" ADD COLUMN     "pending_invitations" INTEGER NOT NULL DEFAULT 0;

CREATE FUNCTION count_pending_invitations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'invited' THEN
    UPDATE partners SET pending_invitations = pending_invitations - 1 WHERE id = OLD.partner_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'invited' THEN
    UPDATE partners SET pending_invitations = pending_invitations + 1 WHERE id = NEW.partner_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER relationships_pending_inserted AFTER INSERT ON relationships
  FOR EACH ROW WHEN (NEW.status = 'invited') EXECUTE FUNCTION count_pending_invitations();
CREATE TRIGGER relationships_pending_moved AFTER UPDATE OF status, partner_id ON relationships
  FOR EACH ROW WHEN ((OLD.status = 'invited') <> (NEW.status = 'invited') OR (NEW.status = 'invited' AND OLD.partner_id <> NEW.partner_id))
  EXECUTE FUNCTION count_pending_invitations();
CREATE TRIGGER relationships_pending_deleted AFTER DELETE ON relationships
  FOR EACH ROW WHEN (OLD.status = 'invited') EXECUTE FUNCTION count_pending_invitations();

-- After the triggers, in the same transaction: CREATE TRIGGER holds off writers until the commit,
-- so no offer or answer falls between the count and the triggers.
UPDATE partners p SET pending_invitations = (SELECT count(*) FROM relationships r WHERE r.partner_id = p.id AND r.status = 'invited');
