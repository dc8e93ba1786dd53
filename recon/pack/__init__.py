"""The Excel sign-off pack: what a CYP lead opens, checks and signs.

``recon.pack.save.write_pack(result, path, PackOptions(...)) -> PackInfo`` writes it atomically;
``recon.pack.fingerprint.verify_pack(path)`` checks a saved pack still shows what it was signed
with; ``recon.pack.sheets.signoff.read_signoff(path)`` reads what the lead filled in. This
``__init__`` imports nothing: the register imports the family sheet modules, and a re-export of
the writer here would make an import cycle.
"""
