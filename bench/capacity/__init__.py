"""What one engine process carries on its own: live calls against a stand-in ARI (no media)."""
