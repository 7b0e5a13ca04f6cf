"""A small, honest text for the character-level examples: the opening of the
Declaration of the Rights of Man and of the Citizen (1789), in English, public domain."""

TEXT = (
    "The representatives of the French people, organized as a National Assembly, believing "
    "that the ignorance, neglect, or contempt of the rights of man are the sole cause of "
    "public calamities and of the corruption of governments, have determined to set forth in "
    "a solemn declaration the natural, unalienable, and sacred rights of man, in order that "
    "this declaration, being constantly before all the members of the Social body, shall "
    "remind them continually of their rights and duties; in order that the acts of the "
    "legislative power, as well as those of the executive power, may be compared at any "
    "moment with the objects and purposes of all political institutions and may thus be "
    "more respected, and, lastly, in order that the grievances of the citizens, based "
    "hereafter upon simple and incontestable principles, shall tend to the maintenance of "
    "the constitution and redound to the happiness of all. "
    "Men are born and remain free and equal in rights. Social distinctions may be founded "
    "only upon the general good. The aim of all political association is the preservation "
    "of the natural and imprescriptible rights of man. These rights are liberty, property, "
    "security, and resistance to oppression. "
)
