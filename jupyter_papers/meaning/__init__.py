"""Search by meaning: an embedding model beside the word index (the ``[semantic]`` extra).

Nothing here is imported unless meaning is asked for, and without the extra the index
searches by words as before.
"""

# What a front end's option says -> search's and more_like's ``meaning`` (None: the setting's default)
ASKED = {"auto": None, "on": True, "off": False}
