"""placeholder"""
def session_states(access):
    return []
