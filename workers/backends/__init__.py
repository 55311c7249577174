"""Backend adapters: plain Python, no Django. See base.py for the contract."""
