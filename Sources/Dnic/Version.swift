import CDnic

/// Versions of the Swift package and of the C core it runs on.
public enum DnicVersion {
    public static var core: String { String(cString: dnic_version()) }
}
